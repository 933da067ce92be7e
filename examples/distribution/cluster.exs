# The Elixir side of join_elixir.py.  Start it first:
#   elixir --name ex@127.0.0.1 --cookie demo examples/distribution/cluster.exs
defmodule Counter do
  use GenServer
  def start(n), do: GenServer.start(__MODULE__, n, name: :counter)
  @impl true
  def init(n), do: {:ok, n}
  @impl true
  def handle_call(:next, _from, n), do: {:reply, n, n + 1}
end

{:ok, _} = Counter.start(1)
Process.register(self(), :ex_main)
IO.puts("ex is up")

receive do
  {:hello, from} ->
    # Call back into Python: Greeter.greet/1 is exposed there.
    greeting = :rpc.call(node(from), Greeter, :greet, ["Elixir"])
    ref = Process.monitor(from)
    send(from, {:greeting, greeting})
    receive do
      {:DOWN, ^ref, :process, _, reason} -> IO.puts("python main exited: #{inspect(reason)}")
    end
end
