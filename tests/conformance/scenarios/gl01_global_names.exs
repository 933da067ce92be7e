Code.require_file("../T.exs", __DIR__)

defmodule GlStack do
  use GenServer
  def init(s), do: {:ok, s}
  def handle_call(:pop, _from, [h | t]), do: {:reply, h, t}
  def handle_cast({:push, x}, s), do: {:noreply, [x | s]}
end

T.main(fn ->
  me = self()
  a = spawn(fn -> receive do m -> send(me, {:a_got, m}) end end)
  b = spawn(&T.wait_forever/0)
  c = spawn(&T.wait_forever/0)
  T.out("register", :global.register_name(:a, a))
  T.out("taken", :global.register_name(:a, b))
  T.out("second name", :global.register_name(:a2, a))
  T.out("whereis", :global.whereis_name(:a) == a)
  # :undefined in Erlang is None in tether (as nil is)
  T.out("unknown", :global.whereis_name(:nobody) == :undefined)
  T.out("send", :global.send(:a, :hello) == a)
  receive do {:a_got, m} -> T.out("a got", m) end
  T.settle()
  T.out("after death", :global.whereis_name(:a) == :undefined)
  T.out("re_register", :global.re_register_name(:b, b))
  T.out("moved", {:global.re_register_name(:b, c), :global.whereis_name(:b) == c})
  T.out("names", Enum.sort(:global.registered_names()))
  T.out("unregister", :global.unregister_name(:b))
  T.out("unregister again", :global.unregister_name(:b))
  T.out("names", :global.registered_names())

  {:ok, stack} = GenServer.start_link(GlStack, [:x], name: {:global, :stack})
  T.out("already", GenServer.start(GlStack, [], name: {:global, :stack}) == {:error, {:already_started, stack}})
  T.out("whereis stack", GenServer.whereis({:global, :stack}) == stack)
  T.out("cast", GenServer.cast({:global, :stack}, {:push, :y}))
  T.out("pop", GenServer.call({:global, :stack}, :pop))
  T.out("pop via", GenServer.call({:via, :global, :stack}, :pop))
  T.out("cast unknown", GenServer.cast({:global, :nobody}, :x))
  T.out("call unknown", try do GenServer.call({:global, :nobody}, :pop) catch :exit, r -> r end)
  T.out("stop", GenServer.stop({:global, :stack}))
  T.out("stopped", GenServer.whereis({:global, :stack}))

  T.out("set_lock", :global.set_lock({:res, :me}))
  T.out("again", :global.set_lock({:res, :me}))
  other = spawn(fn -> send(me, {:other, :global.set_lock({:res, :other}, [node()], 0)}) end)
  receive do {:other, r} -> T.out("other requester", {r, is_pid(other)}) end
  T.out("del_lock", :global.del_lock({:res, :me}))
  T.out("trans", :global.trans({:res, :me}, fn -> :inside end))
end)
T.done()
