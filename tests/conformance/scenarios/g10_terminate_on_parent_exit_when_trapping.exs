Code.require_file("../T.exs", __DIR__)
Code.require_file("../stack.exs", __DIR__)
defmodule Trapper do
  use GenServer
  def init(_), do: (Process.flag(:trap_exit, true); {:ok, nil})
  def terminate(reason, _), do: T.out("terminate", reason)
end

T.main(fn ->
  me = self()
  {_parent, ref} = spawn_monitor(fn ->
    {:ok, pid} = GenServer.start_link(Trapper, nil)
    send(me, {:server, pid})
    exit(:parent_gone)
  end)
  receive do {:server, _} -> :ok end
  receive do {:DOWN, ^ref, _, _, r} -> T.out("parent", r) end
  T.settle()
end)
T.done()
