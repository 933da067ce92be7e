# Conformance harness, Elixir side.  Every scenario prints trace lines through
# T.out/2 so that Elixir and its tether twin print the same text: atoms as :x,
# tuples as {a, b}, a crash as <raise Type "message">.  The runner then names pids
# and refs by order of first appearance.
:logger.set_primary_config(:level, :none)

defmodule T do
  def fmt(x) when is_pid(x) or is_reference(x) or is_port(x), do: inspect(x)
  def fmt(%Task{}), do: "<task>"
  def fmt(f) when is_function(f), do: "<fun>"
  def fmt(nil), do: "nil"
  def fmt(x) when is_boolean(x), do: to_string(x)
  def fmt(x) when is_atom(x), do: inspect(x)
  def fmt(x) when is_integer(x), do: Integer.to_string(x)
  def fmt({%{__exception__: true} = e, st}) when is_list(st),
    do: "<raise #{inspect(e.__struct__)} #{inspect(Exception.message(e))}>"
  def fmt({:badarith, st}) when is_list(st), do: "<raise ArithmeticError>"
  def fmt({:noproc, st}) when is_list(st), do: "<raise noproc>"
  def fmt(t) when is_tuple(t), do: "{" <> Enum.map_join(Tuple.to_list(t), ", ", &fmt/1) <> "}"
  def fmt(l) when is_list(l), do: "[" <> Enum.map_join(l, ", ", &fmt/1) <> "]"
  def fmt(b) when is_binary(b), do: inspect(b)

  def fmt(m) when is_map(m),
    do: "%{" <> Enum.map_join(Enum.sort(m), ", ", fn {k, v} -> fmt(k) <> " => " <> fmt(v) end) <> "}"

  # Lines go to a collector process and are printed by T.done/0 at the end: an
  # IO.puts from a process killed while its request is in flight is dropped by
  # the IO server, whereas a send is complete before the sender can die.
  def start do
    pid = spawn(fn -> collect([]) end)
    Process.register(pid, :t_out)
  end

  defp collect(acc) do
    receive do
      {:line, l} -> collect([l | acc])
      {:done, from} -> send(from, {:lines, Enum.reverse(acc)})
    end
  end

  def puts(text), do: send(:t_out, {:line, text})
  def out(label, x), do: puts(label <> " " <> fmt(x))

  def done do
    send(:t_out, {:done, self()})
    receive do
      {:lines, lines} -> Enum.each(lines, &IO.puts/1)
    end
  end

  # IEx's flush/0: print every queued message in order.
  def flush do
    receive do
      m ->
        out("msg", m)
        flush()
    after
      0 -> :ok
    end
  end

  # Process.info(pid, item) as tether returns it: the value, or nil when dead.
  def info(pid, item) do
    case Process.info(pid, item) do
      nil -> nil
      {^item, []} when item == :registered_name -> nil
      {^item, v} -> v
    end
  end

  # Run the scenario's caller in its own process and report how it ended.
  def run(fun) do
    {pid, ref} = spawn_monitor(fun)

    receive do
      {:DOWN, ^ref, :process, ^pid, reason} -> out("caller_exit", reason)
    end
  end

  # Run a scenario body in a fresh process: a script's own top-level process is
  # linked to Elixir's boot processes, which would show in :links and EXITs.
  def main(fun) do
    {pid, ref} = spawn_monitor(fun)

    receive do
      {:DOWN, ^ref, :process, ^pid, :normal} -> :ok
      {:DOWN, ^ref, :process, ^pid, reason} -> out("main_exit", reason)
    end

    # What the body's end sets off (a linked supervisor stopping its children)
    # belongs to the trace too.
    settle()
  end

  def settle, do: Process.sleep(50)

  def wait_forever, do: Process.sleep(:infinity)

  # Traps exits, says :ready, then forwards every message as {:got, m}.
  def forwarder(top) do
    Process.flag(:trap_exit, true)
    send(top, {:ready, self()})
    forward(top)
  end

  defp forward(top) do
    receive do
      m ->
        send(top, {:got, m})
        forward(top)
    end
  end

  def start_forwarder do
    me = self()
    pid = spawn(fn -> forwarder(me) end)
    receive do
      {:ready, ^pid} -> pid
    end
  end
end

T.start()
